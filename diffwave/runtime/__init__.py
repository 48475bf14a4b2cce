"""Process runtime: device choice, numeric precision, and the allocator setting that only entry
points turn on."""
