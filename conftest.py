"""Root test setup: nameko needs eventlet's monkey patching before anything else imports."""

import eventlet

eventlet.monkey_patch()
