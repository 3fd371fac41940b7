"""The platform's rules as plain functions: no Flask request objects in here.

Convention: a service function that changes data is one unit of work and commits once;
functions that only read never commit.
"""
