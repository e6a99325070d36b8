"""What a run is made of: the typed scenario file and the inputs it names, loaded and frozen."""
