"""The low-balance recipe: a prepaid runway forecast, threshold alerts, optional protection.

Modules, one idea each: ``rates`` (where prices come from), ``burn`` (the fleet model),
``history`` and ``history_store`` (the measured burn), ``runway``, ``thresholds``,
``assessment`` (readings to verdict), ``protection`` (the plan), ``act`` (carrying it out),
``params``, ``report`` (and its alerts), ``notify``, ``flow``, ``demo``.
"""
