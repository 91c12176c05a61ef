"""Reports a supervisor and a regulator read: campaign KPIs and the compliance report."""
