"""Rate limiting per client address (slowapi); in-memory here, a shared store when scaled out."""

from slowapi import Limiter
from slowapi.util import get_remote_address

limiter = Limiter(key_func=get_remote_address)
