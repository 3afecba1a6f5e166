"""Apply: the rules run over every file (the runner, its worker processes, the rounds of predict and fix), the
changes laid out as the project lays out its code, the reviewed plan, and the writes."""
