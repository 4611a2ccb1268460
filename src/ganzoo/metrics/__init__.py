"""FID, IS and KID through torchmetrics on pluggable feature extractors: digit classifiers or Inception."""

from ganzoo.metrics.digits import DigitClassifier, DigitExtractor, load_digit_classifier
from ganzoo.metrics.extractor import FeatureExtractor, FeatureHead
from ganzoo.metrics.generative import LOGGED, ClassCoverage, GenerativeMetrics, build_metrics, inception_score_parts
from ganzoo.metrics.inception import InceptionExtractor, InceptionWeightsError, resolve_inception_weights

__all__ = [
    "LOGGED",
    "ClassCoverage",
    "DigitClassifier",
    "DigitExtractor",
    "FeatureExtractor",
    "FeatureHead",
    "GenerativeMetrics",
    "InceptionExtractor",
    "InceptionWeightsError",
    "build_metrics",
    "inception_score_parts",
    "load_digit_classifier",
    "resolve_inception_weights",
]
