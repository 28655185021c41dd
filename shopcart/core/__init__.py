"""The bottom layer every app may use: money, queries, the email outbox, request ids, health,
refusals and the API's error answers, the staff two-factor rule (docs/architecture.md)."""
