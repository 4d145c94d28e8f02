"""Seed the national holiday arrangements from chinese-calendar (2004 to its last year).

The code is copied here rather than imported from the app, so the migration keeps working
whatever the app becomes later."""

from django.db import migrations

NAMES = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节", "National Day": "国庆节", "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def fill(apps, schema_editor):
    import chinese_calendar as cc

    CalendarDay = apps.get_model("workcal", "CalendarDay")
    CalendarYear = apps.get_model("workcal", "CalendarYear")
    existing = set(CalendarDay.objects.filter(region__isnull=True).values_list("date", flat=True))
    rows = []
    for d, name in cc.holidays.items():
        if d.weekday() < 5 and d not in existing:
            rows.append(CalendarDay(date=d, is_workday=False, name=NAMES.get(str(name), str(name)), source="seed"))
    for d, name in cc.workdays.items():
        if d.weekday() >= 5 and d not in existing:
            rows.append(CalendarDay(date=d, is_workday=True, name=NAMES.get(str(name), str(name)) + "调休",
                                    source="seed"))
    CalendarDay.objects.bulk_create(rows, batch_size=1000)
    years = {d.year for d in cc.holidays} | {d.year for d in cc.workdays}
    known = set(CalendarYear.objects.values_list("year", flat=True))
    CalendarYear.objects.bulk_create([CalendarYear(year=y, source="seed") for y in sorted(years - known)])


class Migration(migrations.Migration):
    dependencies = [("workcal", "0001_initial")]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
