"""Exchange with outside platforms: upward reporting and the 12345 hotline (docs/exchange.md).

* ``peers`` — who we talk to (from configuration) and which history events each one receives;
* ``messages`` — a history event as a message of the documented format ``citycase-exchange/1``;
* ``push`` — send what a peer has not had yet, in order, at least once, with back-off;
* ``hotline`` — a 12345 work order coming in becomes a case (once, however often it is sent).

The history is the outbox: nothing is written by the commands for the exchange. Each peer has a
cursor (the last event id it acknowledged), so a peer that was down for a day receives the day's
events in order when it is back, and a new peer can be started from any point.
"""
