"""CPPCC workflow (issue #6): members; yearly consultation plans and their topics;
consultation meetings with chains, parties and sectors, leaders, attendance and the cases
they raised; suggestions, proposals and opinion reports with co-signers, handling units and
their answers, milestones and change history (merge and split links); member duty records
with their chains; the yearly duty scoring rules.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 14:28:29.099664
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cppcc_duty_scoring",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_cppcc_duty_scoring")),
    )
    op.create_table(
        "cppcc_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("year >= 1949 AND year <= 2200", name=op.f("ck_cppcc_plans_year")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cppcc_plans")),
        sa.UniqueConstraint("year", "region_code", name=op.f("uq_cppcc_plans_year")),
    )
    op.create_table(
        "cppcc_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.String(length=32), nullable=True),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("employer", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_cppcc_members_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cppcc_members")),
        sa.UniqueConstraint("user_id", name=op.f("uq_cppcc_members_user_id")),
    )
    with op.batch_alter_table("cppcc_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cppcc_members_name"), ["name"], unique=False)

    op.create_table(
        "cppcc_plan_topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("chain_id", sa.String(length=64), nullable=True),
        sa.Column("planned_month", sa.Integer(), nullable=True),
        sa.Column("lead", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('topical', 'counterpart', 'sector', 'bimonthly')",
            name=op.f("ck_cppcc_plan_topics_kind"),
        ),
        sa.CheckConstraint(
            "planned_month IS NULL OR (planned_month >= 1 AND planned_month <= 12)",
            name=op.f("ck_cppcc_plan_topics_planned_month"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["cppcc_plans.id"],
            name=op.f("fk_cppcc_plan_topics_plan_id_cppcc_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cppcc_plan_topics")),
    )
    with op.batch_alter_table("cppcc_plan_topics", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cppcc_plan_topics_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "cppcc_consultations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("plan_topic_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("report_text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('topical', 'counterpart', 'sector', 'bimonthly', 'other')",
            name=op.f("ck_cppcc_consultations_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_topic_id"],
            ["cppcc_plan_topics.id"],
            name=op.f("fk_cppcc_consultations_plan_topic_id_cppcc_plan_topics"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cppcc_consultations")),
    )
    with op.batch_alter_table("cppcc_consultations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cppcc_consultations_held_on"), ["held_on"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_cppcc_consultations_kind"), ["kind"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_cppcc_consultations_plan_topic_id"), ["plan_topic_id"], unique=False
        )

    op.create_table(
        "cppcc_attendance",
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "status IN ('present', 'absent', 'excused')", name=op.f("ck_cppcc_attendance_status")
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["cppcc_consultations.id"],
            name=op.f("fk_cppcc_attendance_consultation_id_cppcc_consultations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["cppcc_members.id"],
            name=op.f("fk_cppcc_attendance_member_id_cppcc_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("consultation_id", "member_id", name=op.f("pk_cppcc_attendance")),
    )
    with op.batch_alter_table("cppcc_attendance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cppcc_attendance_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "cppcc_consultation_cases",
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_cppcc_consultation_cases_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["cppcc_consultations.id"],
            name=op.f("fk_cppcc_consultation_cases_consultation_id_cppcc_consultations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "consultation_id", "case_id", name=op.f("pk_cppcc_consultation_cases")
        ),
    )
    with op.batch_alter_table("cppcc_consultation_cases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cppcc_consultation_cases_case_id"), ["case_id"], unique=False
        )

    op.create_table(
        "cppcc_consultation_chains",
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("chain_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["cppcc_consultations.id"],
            name=op.f("fk_cppcc_consultation_chains_consultation_id_cppcc_consultations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "consultation_id", "chain_id", name=op.f("pk_cppcc_consultation_chains")
        ),
    )
    with op.batch_alter_table("cppcc_consultation_chains", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cppcc_consultation_chains_chain_id"), ["chain_id"], unique=False
        )

    op.create_table(
        "cppcc_consultation_groups",
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("spoke", sa.Boolean(), nullable=False),
        sa.Column("speakers", sa.String(length=400), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["cppcc_consultations.id"],
            name=op.f("fk_cppcc_consultation_groups_consultation_id_cppcc_consultations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "consultation_id", "group_id", name=op.f("pk_cppcc_consultation_groups")
        ),
    )
    op.create_table(
        "cppcc_consultation_leaders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("roles", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["cppcc_consultations.id"],
            name=op.f("fk_cppcc_consultation_leaders_consultation_id_cppcc_consultations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cppcc_consultation_leaders")),
    )
    with op.batch_alter_table("cppcc_consultation_leaders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cppcc_consultation_leaders_consultation_id"),
            ["consultation_id"],
            unique=False,
        )

    op.create_table(
        "cppcc_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("raised_on", sa.Date(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=True),
        sa.Column("group_id", sa.String(length=32), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("chain_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("split_from_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('suggestion', 'proposal', 'opinion_report')",
            name=op.f("ck_cppcc_submissions_kind"),
        ),
        sa.CheckConstraint(
            "merged_into_id IS NULL OR state = 'merged'",
            name=op.f("ck_cppcc_submissions_merged_state"),
        ),
        sa.CheckConstraint(
            "state IN ('registered', 'assigned', 'answered', 'merged', 'split')",
            name=op.f("ck_cppcc_submissions_state"),
        ),
        sa.CheckConstraint(
            "status <> 'done' OR progress = 100", name=op.f("ck_cppcc_submissions_done_complete")
        ),
        sa.CheckConstraint(
            "status IN ('planned', 'in_progress', 'done', 'not_adopted')",
            name=op.f("ck_cppcc_submissions_status"),
        ),
        sa.CheckConstraint(
            "progress IS NULL OR (progress >= 0 AND progress <= 100)",
            name=op.f("ck_cppcc_submissions_progress"),
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["cppcc_consultations.id"],
            name=op.f("fk_cppcc_submissions_consultation_id_cppcc_consultations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["cppcc_members.id"],
            name=op.f("fk_cppcc_submissions_member_id_cppcc_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["merged_into_id"],
            ["cppcc_submissions.id"],
            name=op.f("fk_cppcc_submissions_merged_into_id_cppcc_submissions"),
            ondelete="SET NULL",
            deferrable=True,
            initially="DEFERRED",
        ),
        sa.ForeignKeyConstraint(
            ["split_from_id"],
            ["cppcc_submissions.id"],
            name=op.f("fk_cppcc_submissions_split_from_id_cppcc_submissions"),
            ondelete="SET NULL",
            deferrable=True,
            initially="DEFERRED",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cppcc_submissions")),
    )
    with op.batch_alter_table("cppcc_submissions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cppcc_submissions_chain_id"), ["chain_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_cppcc_submissions_consultation_id"), ["consultation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_cppcc_submissions_kind"), ["kind"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_cppcc_submissions_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_cppcc_submissions_merged_into_id"), ["merged_into_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_cppcc_submissions_raised_on"), ["raised_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_cppcc_submissions_split_from_id"), ["split_from_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_cppcc_submissions_state"), ["state"], unique=False)

    op.create_table(
        "cppcc_duty_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("enterprise_name", sa.String(length=200), nullable=False),
        sa.Column("enterprise_uscc", sa.String(length=18), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("consultation_id", sa.Integer(), nullable=True),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('visit', 'investment_event', 'research', 'speech', 'proposal', 'matchmaking', 'village_pairing')",
            name=op.f("ck_cppcc_duty_records_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_cppcc_duty_records_case_id_cases"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["cppcc_consultations.id"],
            name=op.f("fk_cppcc_duty_records_consultation_id_cppcc_consultations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["cppcc_members.id"],
            name=op.f("fk_cppcc_duty_records_member_id_cppcc_members"),
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["cppcc_submissions.id"],
            name=op.f("fk_cppcc_duty_records_submission_id_cppcc_submissions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cppcc_duty_records")),
    )
    with op.batch_alter_table("cppcc_duty_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cppcc_duty_records_case_id"), ["case_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_cppcc_duty_records_consultation_id"), ["consultation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_cppcc_duty_records_done_on"), ["done_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_cppcc_duty_records_enterprise_uscc"), ["enterprise_uscc"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_cppcc_duty_records_kind"), ["kind"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_cppcc_duty_records_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_cppcc_duty_records_submission_id"), ["submission_id"], unique=False
        )

    op.create_table(
        "cppcc_handlings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("lead", sa.Boolean(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("assigned_at", sa.DateTime(), nullable=False),
        sa.Column("assigned_by", sa.String(length=64), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("answered_by", sa.String(length=128), nullable=False),
        sa.Column("answered_user", sa.String(length=64), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "state <> 'answered' OR answered_on IS NOT NULL",
            name=op.f("ck_cppcc_handlings_answered_on"),
        ),
        sa.CheckConstraint(
            "state IN ('assigned', 'answered')", name=op.f("ck_cppcc_handlings_state")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["cppcc_submissions.id"],
            name=op.f("fk_cppcc_handlings_submission_id_cppcc_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_cppcc_handlings_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cppcc_handlings")),
        sa.UniqueConstraint(
            "submission_id", "unit_id", name=op.f("uq_cppcc_handlings_submission_id")
        ),
    )
    with op.batch_alter_table("cppcc_handlings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cppcc_handlings_submission_id"), ["submission_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_cppcc_handlings_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "cppcc_milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("reached_on", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("progress", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "progress IS NULL OR (progress >= 0 AND progress <= 100)",
            name=op.f("ck_cppcc_milestones_progress"),
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["cppcc_submissions.id"],
            name=op.f("fk_cppcc_milestones_submission_id_cppcc_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cppcc_milestones")),
    )
    with op.batch_alter_table("cppcc_milestones", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cppcc_milestones_submission_id"), ["submission_id"], unique=False
        )

    op.create_table(
        "cppcc_submission_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["cppcc_submissions.id"],
            name=op.f("fk_cppcc_submission_changes_submission_id_cppcc_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_cppcc_submission_changes_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cppcc_submission_changes")),
    )
    with op.batch_alter_table("cppcc_submission_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cppcc_submission_changes_submission_id"), ["submission_id"], unique=False
        )

    op.create_table(
        "cppcc_submission_signers",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["cppcc_members.id"],
            name=op.f("fk_cppcc_submission_signers_member_id_cppcc_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["cppcc_submissions.id"],
            name=op.f("fk_cppcc_submission_signers_submission_id_cppcc_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "submission_id", "member_id", name=op.f("pk_cppcc_submission_signers")
        ),
    )
    with op.batch_alter_table("cppcc_submission_signers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cppcc_submission_signers_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "cppcc_duty_record_chains",
        sa.Column("duty_record_id", sa.Integer(), nullable=False),
        sa.Column("chain_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["duty_record_id"],
            ["cppcc_duty_records.id"],
            name=op.f("fk_cppcc_duty_record_chains_duty_record_id_cppcc_duty_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "duty_record_id", "chain_id", name=op.f("pk_cppcc_duty_record_chains")
        ),
    )
    with op.batch_alter_table("cppcc_duty_record_chains", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cppcc_duty_record_chains_chain_id"), ["chain_id"], unique=False
        )


def downgrade() -> None:
    # dependants first; dropping a table drops its indexes
    for table in (
        "cppcc_duty_record_chains",
        "cppcc_submission_signers",
        "cppcc_submission_changes",
        "cppcc_milestones",
        "cppcc_handlings",
        "cppcc_duty_records",
        "cppcc_submissions",
        "cppcc_consultation_leaders",
        "cppcc_consultation_groups",
        "cppcc_consultation_chains",
        "cppcc_consultation_cases",
        "cppcc_attendance",
        "cppcc_consultations",
        "cppcc_plan_topics",
        "cppcc_members",
        "cppcc_plans",
        "cppcc_duty_scoring",
    ):
        op.drop_table(table)
