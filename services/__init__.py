"""The congso services: survey, scoring and notify."""
