"""The demo city: regions, halls, departments and the generated catalogue."""
