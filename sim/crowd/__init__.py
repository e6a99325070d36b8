"""The crowd: origins, random draws, one replication's plan, both engines, tables, statistics."""
