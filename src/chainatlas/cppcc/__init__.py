"""CPPCC (政协) work: consultations, suggestions, member duty records and document intake.

Document intake (`chainatlas.cppcc.intake.extract_meeting`) turns a meeting report or news
article into a draft meeting record for a person to confirm; see docs/intake.md.
"""
