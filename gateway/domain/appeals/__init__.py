"""Appeals: the event log (events), the state folded from it and the rules for the next event (lifecycle),
and the due date with its explanation (deadlines)."""
