"""Route stage (issue 3): consumes the route queue's ticket.created / message.added announcements, sets priority,
assigns an agent through conditional writes on the load table, and sends the first response."""
