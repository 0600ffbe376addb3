"""Multi-host tests: web, workers, SQS and Redis on hosts of their own (network namespaces), cut apart."""
