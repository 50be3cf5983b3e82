"""Real-time delivery over Socket.IO: who may connect (access), which rooms a connection joins and
which rooms an event reaches (rooms), the emitter that works from an RQ worker without a Socket.IO
server of its own (emitter), and the outbox consumers that turn domain events into socket events
(consumers).

The Socket.IO handlers themselves are a face: storefront_api/realtime.py. Events are emitted only
by outbox consumers, so only after the transaction that published them committed; the consumer
emits after its own bookkeeping commits (emitter.emit_after_commit). Every payload carries the
outbox event's id as `event_id`: delivery is at least once (a consumer retried after a failed
emit may emit again), so a client drops an id it has seen.
"""
