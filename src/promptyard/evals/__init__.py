"""Evaluators, LLM judges, suites, scoring, calibration and the CI gate."""
