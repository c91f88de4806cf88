"""Take docs/viewer.png: follow the shipped example in real time with --viewer and photograph the page in a
headless Chromium. Needs chromium, chromedriver and selenium. Usage: python docs/viewer_screenshot.py [SECONDS]"""

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ROOT = Path(__file__).resolve().parents[1]
at = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
follower = subprocess.Popen(
    [sys.executable, "-m", "sheetsync", "follow", str(ROOT / "examples/bach-bwv40.6.pdf"),
     "--audio", str(ROOT / "examples/bach-bwv40.6.flac"), "--realtime", "--quiet", "--viewer", "0"],
    stderr=subprocess.PIPE, text=True)
try:
    while not (match := re.search(r"viewer at (\S+)", line := follower.stderr.readline())):
        if not line:
            sys.exit("the follower ended before the viewer started")
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,860",
                     "--hide-scrollbars"):
        options.add_argument(argument)
    browser = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        browser.get(match[1])
        time.sleep(at)
        out = ROOT / "docs/viewer.png"
        browser.save_screenshot(str(out))
    finally:
        browser.quit()
    Image.open(out).convert("RGB").quantize(256, dither=Image.Dither.NONE).save(out, optimize=True)  # < 300 KB
    print(f"{out}: {out.stat().st_size // 1024} KB")
finally:
    follower.terminate()
    follower.wait()
