"""Op families. Each module defines its ops once: inference, kernel binding, numpy reference."""
