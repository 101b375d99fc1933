"""Restore from snapshot into a new region (``restore-to-region``), and restore drills
(``restore-drill``).

Modules, from pure to acting:

* :mod:`~flows.restore.naming`: instance names, validated and derived from the source;
* :mod:`~flows.restore.candidates`: candidate regions judged and ranked (stock, price);
* :mod:`~flows.restore.guards`: snapshot status, balance minimum, runway, name checks;
* :mod:`~flows.restore.plan`: all of it combined into a :class:`RestorePlan`;
* :mod:`~flows.restore.source`: which snapshot an instance name means;
* :mod:`~flows.restore.report`, :mod:`~flows.restore.drill_report`: reports and alerts;
* :mod:`~flows.restore.execute`: carrying a plan out through the tasks;
* :mod:`~flows.restore.flow`, :mod:`~flows.restore.drill`: the two Prefect flows.
"""
