"""Reading datasets line-accurately and writing files atomically."""
