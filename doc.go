// Package bookingsync is a Go client for the BookingSync (Smily) API v3,
// centred on the Inbox: the guest conversations that channel bookings
// (Booking.com, Airbnb, Vrbo) create, their participants, messages and
// attachments, the account's hosts, and the bookings and applications
// behind them.
package bookingsync
