"""Headless Chromium (Debian's ``chromium`` and ``chromium-driver``) driven by Selenium, for tests.

``.ci/run`` installs both packages and sets ``FIBROSKIN_REQUIRE_BROWSER=1``, so there a
missing browser fails the test; elsewhere the test is skipped with the reason.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("FIBROSKIN_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("FIBROSKIN_CHROMEDRIVER", shutil.which("chromedriver") or "/usr/bin/chromedriver"))
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--disable-sync", "--window-size=1200,900",
)
REQUIRE_BROWSER = os.environ.get("FIBROSKIN_REQUIRE_BROWSER", "") not in ("", "0")


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium session (selenium WebDriver); skipped, with the reason, without a browser."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("the selenium package (pip install -e '.[test]')")
    if missing:
        reason = f"headless Chromium needs {', '.join(missing)} (apt-get install chromium chromium-driver)"
        if REQUIRE_BROWSER:
            pytest.fail(reason + "; FIBROSKIN_REQUIRE_BROWSER is set, so this is a failure", pytrace=False)
        pytest.skip(reason)
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait_until(driver, script: str, timeout: float = 30.0) -> object:
    """Poll ``script`` (a JavaScript expression returned by ``return``) until it is truthy."""
    started = time.perf_counter()
    while True:
        value = driver.execute_script(script)
        if value:
            return value
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"{script!r} still false after {timeout} s")
        time.sleep(0.02)


def hover(driver, element, x: float, y: float) -> None:
    """Move the real mouse pointer to (x, y) pixels from the element's top-left corner."""
    from selenium.webdriver.common.action_chains import ActionChains

    width, height = driver.execute_script(
        "const r = arguments[0].getBoundingClientRect(); return [r.width, r.height]", element
    )
    # Selenium offsets are from the element's centre.
    ActionChains(driver).move_to_element_with_offset(element, x - width / 2, y - height / 2).perform()
