"""Domain operations shared by views, the CLI, jobs and the demo data, so each rule lives once."""
