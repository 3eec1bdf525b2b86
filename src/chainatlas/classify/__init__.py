"""Enterprise → node assignment: industry-code rules plus a keyword automaton."""

from chainatlas.classify.assign import ASSIGNMENT_SCHEMA, classify
from chainatlas.classify.vocabulary import Vocabulary, build_vocabulary

__all__ = ["ASSIGNMENT_SCHEMA", "Vocabulary", "build_vocabulary", "classify"]
