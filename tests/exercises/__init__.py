"""Tests of the course exercises and their grader."""
