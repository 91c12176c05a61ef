"""Collection strategy: stages by days past due, retry and disposition rules, priority, best time.

Everything here is pure: plain dataclasses and an instant in, decisions out. The compliance gate
still decides every dial; these rules only propose the earliest time and the script to use.
"""
