"""The notification centre: what a user is told (stored per user, read and dismissed in the API and
the admin), through which channels (in-app, e-mail, SMS, push) as its preferences and its tenant's
defaults say, and what each channel did with it.

    models.py       notifications, receipts (one per user), deliveries (one per receipt and
                    channel), preferences (per user) and tenant defaults, recorded messages
    catalog.py      the notification types and channels, and the built-in defaults
    preferences.py  the effective preference of a user for a type and channel; changing them
    channels.py     channel adapters: e-mail through app.notifications.mail, SMS and push through
                    a provider adapter named in config (NOTIFY_SMS_ADAPTER, NOTIFY_PUSH_ADAPTER)
    services.py     notify() (exactly once per source event and user), staff sends to a user, a
                    role or a seller segment, and a user's own inbox
    delivery.py     the consumer of `notification.created` that sends the e-mail, SMS and push
                    deliveries after the commit (jobs/subscribers.py)

It sits above every other domain of app/ (just under the top layer): it reads users, roles and
sellers, and reacts to other domains' events, while nothing below imports it (a domain that wants
someone told publishes an event). app.notifications (the mail path) stays low: security mails
through it, and so does this.
"""
