"""Test harness: the pipeline under test, stand-in handles and SQS fault injection (polling, processes and moto live in localdev/)."""
