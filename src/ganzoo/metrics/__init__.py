"""FID, IS and KID through torchmetrics on pluggable feature extractors: digit classifiers or Inception; per-class
metrics of class-conditional generators."""

from ganzoo.metrics.conditional import CodeAccuracy, ConditionalAccuracy, IntraClassFID, PerClassMetrics, match_codes
from ganzoo.metrics.digits import DigitClassifier, DigitExtractor, load_digit_classifier
from ganzoo.metrics.extractor import FeatureExtractor, FeatureHead
from ganzoo.metrics.generative import (
    LOGGED,
    ClassCoverage,
    GenerativeMetrics,
    build_metrics,
    inception_score_parts,
    logged,
)
from ganzoo.metrics.inception import InceptionExtractor, InceptionWeightsError, resolve_inception_weights

__all__ = [
    "LOGGED",
    "ClassCoverage",
    "CodeAccuracy",
    "ConditionalAccuracy",
    "DigitClassifier",
    "DigitExtractor",
    "FeatureExtractor",
    "FeatureHead",
    "GenerativeMetrics",
    "InceptionExtractor",
    "InceptionWeightsError",
    "IntraClassFID",
    "PerClassMetrics",
    "build_metrics",
    "inception_score_parts",
    "load_digit_classifier",
    "logged",
    "match_codes",
    "resolve_inception_weights",
]
