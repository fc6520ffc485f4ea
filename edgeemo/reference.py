"""The reference budget: Intel's emotions-recognition-retail-0003."""

REFERENCE_NAME = "emotions-recognition-retail-0003"
REFERENCE_MACC = 62_991_365  # published as 62.99M under edgeemo's counting convention
REFERENCE_PARAMS = 2_482_507  # published as 2.48M
