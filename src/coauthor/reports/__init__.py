"""Presentation shared by pages, the API and exports: SVG charts, the opinion map, view models."""
