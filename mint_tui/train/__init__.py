"""Building pairs: data lists, crop/activation caches, fitting, calibration, evaluation."""
