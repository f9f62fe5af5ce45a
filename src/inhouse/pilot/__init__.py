"""Play 4, the pilot: its roster and role enablement, the shared prompt library, adoption
measured from the gateway's usage log, and the "would you miss it" survey.

Each job lives in its own module, named for it; read usage through :mod:`inhouse.usage`, never
by folding the event log.
"""
