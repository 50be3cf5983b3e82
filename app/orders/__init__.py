"""Orders: one parent order per checkout, one sub-order per seller, the state machine."""
