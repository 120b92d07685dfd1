"""Running unattended: how a run ended (`runs`), whether it looked right (`monitors`), who is told (`alerts`),
what `health` says, scheduling on scrapyd (`scheduling`), the log's format (`logformatter`).
"""
