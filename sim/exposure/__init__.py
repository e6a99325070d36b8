"""Cameras and what they see: classes, sites, sightlines, coverage of streets, points and lines."""
