"""Background jobs run by RQ workers. Each job takes ids, runs inside the app context that
the worker entry point (``jobs.worker``) pushes, calls services, and is safe to run twice."""
