"""The six big-screen dashboards, one module each (built for English and zh-CN)."""
