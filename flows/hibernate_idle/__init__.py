"""The hibernate-idle recipe: warn about, then hibernate, instances whose GPUs sit idle."""
