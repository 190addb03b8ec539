"""Escalate stage (issue 4): SLA clocks on SQS delay messages and the scheduled safety-net sweep."""
