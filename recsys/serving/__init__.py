"""Serving recommendations: the recommend service and its parts."""
