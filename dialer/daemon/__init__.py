"""The pacing daemon (`dialer run`): hopper → gate → pacer → originate, and call tracking."""
