"""What the analysis pages (首页, 产业链图谱, 诊断) share: the region and chain a request asks
for, checked, and the words the chain graph draws. (A leading underscore: not a router.)"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from functools import partial
from typing import Any

from fastapi import Request
from markupsafe import Markup

from chainatlas.accounts.models import User
from chainatlas.atlas.model import Chain
from chainatlas.diagnose.model import Diagnosis
from chainatlas.errors import UserError
from chainatlas.web import readmodel
from chainatlas.web.i18n import translate
from chainatlas.web.security import Forbidden, require_chain
from chainatlas.web.state import app_state
from chainatlas.web.templating import current_region, language, templates, visible_chains

# the region picker include (`_region_picker.html`) reads its options through this global,
# so any page can include it without passing anything


def requested_region(request: Request, user: User) -> str:
    """The region the page shows: `?region=` when given (an unknown code is refused, not
    silently replaced), else the one remembered for the user."""
    asked = request.query_params.get("region", "").strip()
    if asked:
        readmodel.region_info(asked)
    return current_region(request, user)


def requested_chain(request: Request, user: User, chain_id: str, region_code: str) -> Chain:
    """The chain asked for (unknown → 422; not one of a scoped user's chains → 403); without
    one, the visible chain with the most firms in the region."""
    state = app_state(request)
    if chain_id:
        if chain_id not in state.atlas:
            raise UserError(
                f"参数 chain：没有产业链 {chain_id}",
                f"parameter chain: there is no chain {chain_id!r}",
            )
        require_chain(user, chain_id)
        return state.atlas[chain_id]
    visible = [cid for cid, _ in visible_chains(request, user)]
    if not visible:
        raise Forbidden("no chain")
    overview = readmodel.region_overview(state, region_code)
    best = max(
        visible, key=lambda c: (overview[c].firm_count if c in overview else 0, -visible.index(c))
    )
    return state.atlas[best]


def chain_name(chain: Chain, lang: str) -> str:
    return chain.name_en if lang == "en" and chain.name_en else chain.name_zh


def node_name(chain: Chain, node_id: str, lang: str) -> str:
    node = chain.node(node_id)
    return node.name_en if lang == "en" and node.name_en else node.name_zh


def graph_labels(lang: str) -> dict[str, str]:
    keys = {
        "firms_unit": "diag_firms_unit",
        "recycling": "diag_recycling",
        "break": "diag_status_break",
        **{f"status_{s}": f"diag_status_{s}" for s in readmodel.STATUSES},
    }
    return {k: translate(v, lang) for k, v in keys.items()}


def chain_graph(request: Request, chain: Chain, diagnosis: Diagnosis) -> dict[str, Any]:
    lang = language(request)
    state = app_state(request)
    return readmodel.graph_layout_cached(state, chain, diagnosis, lang, graph_labels(lang))


def chain_map_print(request: Request, chain: Chain, diagnosis: Diagnosis) -> Markup:
    """The static SVG of the chain map that replaces the interactive one on paper."""
    state = app_state(request)
    return Markup(readmodel.chain_map_print(state, chain, diagnosis, language(request)))


def chain_options(request: Request, user: User) -> list[tuple[str, str]]:
    return visible_chains(request, user)


def cached_fragment(
    request: Request, template: str, key: Hashable, context: Callable[[], dict[str, Any]]
) -> Markup:
    """`template` rendered with `context()`, kept per warehouse version and `key` (which must
    hold everything the fragment shows: chain, region, language, …). The user-specific
    parts of a page (pickers, navigation, CSRF token) stay outside the fragment."""
    state = app_state(request)
    lang = language(request)

    def draw() -> str:
        return templates.get_template(template).render(
            t=partial(translate, lang=lang), lang=lang, **context()
        )

    return Markup(readmodel.cached_fragment(state, (template, lang, key), draw))
