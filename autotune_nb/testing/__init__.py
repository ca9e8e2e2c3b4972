"""Contract test suites: a new tuner, assessor or store gets the whole suite by subclassing one class."""
