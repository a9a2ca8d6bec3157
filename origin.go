package bookingsync

import (
	"context"
	"strings"
)

// Origin tells who created a conversation and on which channel it lives.
type Origin struct {
	// CreatorType is the creator's type as the API wrote it
	// ("Doorkeeper::Application", "User", …); "" when the payload names no
	// creator.
	CreatorType string
	// CreatorID is the creator's id; 0 when unknown.
	CreatorID int64
	// Application is the application that created the conversation (for a
	// channel conversation, the channel itself). It is nil when a user
	// created the conversation, or when the application could not be read
	// (403: the token lacks the applications_read scope, as client-credentials
	// tokens do; 404: not visible).
	Application *Application
	// Channel is ChannelAirbnb, ChannelBookingCom or ChannelHomeAway when
	// the creating application's name is one of those channels, else the
	// conversation's DefaultChannel, else "".
	Channel Channel
}

// CreatedByApplication reports whether an application (a channel such as
// Airbnb or Booking.com) created the conversation, and which. It makes no
// request: it reads CreatedBy, whose type is "Doorkeeper::Application" (or
// "Application") for application-created conversations.
func (c *Conversation) CreatedByApplication() (appID int64, ok bool) {
	if c == nil || c.CreatedBy.ID <= 0 {
		return 0, false
	}
	switch strings.ToLower(strings.TrimSpace(c.CreatedBy.Type)) {
	case "doorkeeper::application", "application":
		return c.CreatedBy.ID, true
	}
	return 0, false
}

// Origin resolves who created the conversation and on which channel it
// lives. When an application created it, the application is read through
// the client's application cache (Applications.Cached): resolving the
// origins of any number of conversations costs at most one request per
// distinct application, and none for conversations created by users.
//
// An application the token may not read (403) or cannot see (404) is not
// an error: Origin is returned with Application nil and Channel taken from
// the conversation's default_channel, and the miss is cached too. Other
// failures (network, 5xx, 401, a cancelled ctx) are returned as errors,
// with a nil Origin.
//
// The cache can be cleared with Applications.ClearCache, or turned off for
// a client with WithoutApplicationCache.
//
// GET /applications/{id} (through Applications.Cached; none when cached)
func (s *ConversationsService) Origin(ctx context.Context, c *Conversation) (*Origin, error) {
	if c == nil {
		return nil, invalid("Origin", "nil conversation")
	}
	var app *Application
	if id, ok := c.CreatedByApplication(); ok {
		var err error
		app, err = s.client.Applications.Cached(ctx, id)
		if err != nil && !isApplicationMiss(err) {
			return nil, err
		}
	}
	return originOf(c, app), nil
}

// originOf is the Origin of c, given the application that created it (nil
// when a user did, or when the application could not be read).
func originOf(c *Conversation, app *Application) *Origin {
	o := &Origin{CreatorType: c.CreatedBy.Type, CreatorID: c.CreatedBy.ID, Application: app}
	if app != nil {
		o.Channel = ChannelFromApplicationName(app.Name)
	}
	if o.Channel == "" {
		o.Channel = c.DefaultChannel
	}
	return o
}

// ChannelFromApplicationName recognises a channel application by its name,
// ignoring case, spaces and punctuation: "Airbnb" is ChannelAirbnb;
// "Booking.com", "BookingCom" and "booking-com" are ChannelBookingCom;
// "HomeAway", "Vrbo" and "HomeAway/Vrbo" are ChannelHomeAway. Any other
// name returns "": names are matched whole, so that an unrelated
// application whose name merely mentions a channel is not taken for it.
func ChannelFromApplicationName(name string) Channel {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	switch b.String() {
	case "airbnb":
		return ChannelAirbnb
	case "bookingcom":
		return ChannelBookingCom
	case "homeaway", "vrbo", "homeawayvrbo", "vrbohomeaway":
		return ChannelHomeAway
	}
	return ""
}
