"""A local replica of the two Hải Phòng portals, built from the saved pages, for tests and demos."""
