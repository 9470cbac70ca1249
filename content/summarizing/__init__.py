"""Article summaries: the Summarizer protocol, the offline extractive default and helpers."""

from content.summarizing.base import Summarizer
from content.summarizing.extractive import ExtractiveSummarizer, LeadSummarizer, RankerParams
from content.summarizing.fitting import fit_summary
from content.summarizing.openai import OpenAISummarizer
from content.summarizing.sentences import split_sentences

__all__ = [
    "ExtractiveSummarizer",
    "LeadSummarizer",
    "OpenAISummarizer",
    "RankerParams",
    "Summarizer",
    "fit_summary",
    "split_sentences",
]
