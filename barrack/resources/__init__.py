"""Resource groups: thin facades over the client's one request pipeline."""
