"""The default of every ``NEWSARCHIVE_*`` setting, as names of this module.

The defaults are declared once, with each setting's type, allowed values and meaning,
in :mod:`newsarchive.settings_schema`; this module states them as module attributes,
which is how Scrapy reads a settings module. :class:`newsarchive.NewsArchiveAddon`
sets them at the ``addon`` priority (a project's or the command line's value wins);
:mod:`newsarchive.settings` imports them for the ``news`` project, because Scrapy
builds the spider, which reads them, before add-ons run.
"""

from newsarchive.settings_schema import defaults

globals().update(defaults())

__all__ = ["defaults", *defaults()]
