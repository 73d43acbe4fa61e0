"""Every text the bot sends, in English and Korean, chosen from the user's Telegram language.

Texts are HTML templates (the bot sends with ``parse_mode=HTML``); ``text()`` escapes every value
it fills in, so a product name or a user's input can never break the markup. Values that are
already HTML are passed as ``Html(...)``.
"""

from __future__ import annotations

import html
from typing import Literal

Lang = Literal["en", "ko"]
LANGUAGES: tuple[Lang, ...] = ("en", "ko")


class Html(str):
    """A value that is already valid HTML and must not be escaped again."""

    __slots__ = ()


def language_of(language_code: str | None) -> Lang:
    """Korean for ``ko`` (and regional forms like ``ko-KR``), English for everything else."""
    code = (language_code or "").strip().lower().replace("_", "-")
    return "ko" if code == "ko" or code.startswith("ko-") else "en"


def escape(value: object) -> str:
    return value if isinstance(value, Html) else html.escape(str(value), quote=True)


TEXTS: dict[str, dict[Lang, str]] = {
    # --- introduction and help ---
    "intro": {
        "en": "👋 <b>snapfit</b> finds Musinsa products that look like the clothes in your photo.",
        "ko": "👋 <b>snapfit</b>은 사진 속 옷과 비슷한 무신사 상품을 찾아 드려요.",
    },
    "how_to": {
        "en": "<b>How to use it</b>\n"
        "1. Send a photo of an outfit (a screenshot works too).\n"
        "2. I reply with the closest products: photo, brand, price and a Musinsa link.\n"
        "3. Tap <b>More</b> for the next ones, or <b>Similar #n</b> to see products like one of them.",
        "ko": "<b>사용 방법</b>\n"
        "1. 옷차림 사진을 보내 주세요 (스크린샷도 괜찮아요).\n"
        "2. 가장 비슷한 상품을 사진, 브랜드, 가격, 무신사 링크와 함께 보내 드려요.\n"
        "3. <b>더 보기</b>로 다음 결과를, <b>비슷한 #n</b>으로 그 상품과 닮은 상품을 볼 수 있어요.",
    },
    "example": {
        "en": "Example: send a photo of a grey hoodie, or try <code>/similar 3783092</code>.",
        "ko": "예시: 회색 후드티 사진을 보내거나 <code>/similar 3783092</code>를 입력해 보세요.",
    },
    "current_category": {
        "en": "Current category: <b>{category}</b> (change it with /category).",
        "ko": "현재 카테고리: <b>{category}</b> (/category로 바꿀 수 있어요).",
    },
    "commands_header": {"en": "<b>Commands</b>", "ko": "<b>명령어</b>"},
    "admin_commands_header": {"en": "<b>Admin commands</b>", "ko": "<b>관리자 명령어</b>"},
    "limits": {
        "en": "I run one search at a time, up to {per_minute} a minute (photos, words, links, /similar "
        "and buttons).",
        "ko": "검색은 한 번에 하나씩, 1분에 {per_minute}번까지 할 수 있어요 "
        "(사진, 글, 링크, /similar, 버튼).",
    },
    # --- command menu descriptions (setMyCommands and /help) ---
    "cmd_start": {"en": "What snapfit does", "ko": "snapfit 소개"},
    "cmd_help": {"en": "How to use snapfit", "ko": "사용 방법"},
    "cmd_category": {"en": "Choose the product category to search", "ko": "검색할 상품 카테고리 선택"},
    "cmd_similar": {"en": "Products similar to a Musinsa product", "ko": "무신사 상품과 비슷한 상품 찾기"},
    "cmd_stats": {"en": "Index size per category and model", "ko": "카테고리별 색인 상품 수와 모델"},
    "cmd_sync": {"en": "Sync the catalog with Musinsa now", "ko": "지금 무신사 카탈로그 동기화"},
    "arg_category": {"en": "[name]", "ko": "[이름]"},
    "arg_similar": {"en": "<id or link>", "ko": "<상품 번호 또는 링크>"},
    # --- photo search ---
    "album_note": {
        "en": "You sent several photos: I search one photo at a time, so I used the first one. "
        "Send the others one by one to search them too.",
        "ko": "사진을 여러 장 보내셨네요. 한 번에 한 장씩 검색하므로 첫 번째 사진으로 찾았어요. "
        "다른 사진도 찾으려면 한 장씩 보내 주세요.",
    },
    "user_busy": {
        "en": "I'm still working on your previous search — send the next one when its results are in.",
        "ko": "이전 검색을 아직 처리하고 있어요. 결과가 나온 뒤에 다음 요청을 보내 주세요.",
    },
    "rate_limited": {
        "en": "That's a lot of searches! You can search up to {limit} times a minute — please wait a moment.",
        "ko": "검색이 너무 많아요! 1분에 {limit}번까지 검색할 수 있어요. 잠시 후 다시 시도해 주세요.",
    },
    "encoder_busy": {
        "en": "I'm very busy right now — please try again in a few seconds.",
        "ko": "지금 요청이 많아요. 몇 초 뒤에 다시 시도해 주세요.",
    },
    # --- garment pick ---
    "garments_prompt": {
        "en": "I found {count} items in your photo. Which one should I search? The numbers match the boxes.",
        "ko": "사진에서 아이템 {count}개를 찾았어요. 어떤 것을 검색할까요? 번호는 사진 속 상자 번호예요.",
    },
    "whole_photo_button": {"en": "🖼 Whole photo", "ko": "🖼 전체 사진"},
    "garment_results_header": {
        "en": "🔎 {garment} · results {first}–{last} · {category}",
        "ko": "🔎 {garment} · 검색 결과 {first}–{last} · {category}",
    },
    "photo_expired": {
        "en": "This photo has expired — please send it again.",
        "ko": "이 사진은 만료되었어요. 사진을 다시 보내 주세요.",
    },
    "garment_upper-clothes": {"en": "Top", "ko": "상의"},
    "garment_pants": {"en": "Pants", "ko": "바지"},
    "garment_skirt": {"en": "Skirt", "ko": "스커트"},
    "garment_dress": {"en": "Dress", "ko": "원피스"},
    "garment_shoes": {"en": "Shoes", "ko": "신발"},
    "garment_bag": {"en": "Bag", "ko": "가방"},
    "garment_hat": {"en": "Hat", "ko": "모자"},
    "garment_scarf": {"en": "Scarf", "ko": "스카프"},
    "garment_belt": {"en": "Belt", "ko": "벨트"},
    "garment_sunglasses": {"en": "Sunglasses", "ko": "선글라스"},
    "file_too_big": {
        "en": "That file is too big for me to download ({size}; Telegram lets bots download up to {limit}). "
        "Send it as a photo instead of a file, or send a smaller image.",
        "ko": "파일이 너무 커서 받을 수 없어요 ({size}, 텔레그램 봇은 {limit}까지만 받을 수 있어요). "
        "파일 대신 사진으로 보내거나 더 작은 이미지를 보내 주세요.",
    },
    "download_failed": {
        "en": "I couldn't download your photo from Telegram. Please send it again.",
        "ko": "텔레그램에서 사진을 받지 못했어요. 다시 보내 주세요.",
    },
    "image_empty": {
        "en": "That file is empty. Please send the photo again.",
        "ko": "빈 파일이에요. 사진을 다시 보내 주세요.",
    },
    "image_too_many_bytes": {
        "en": "That image file is too large. Send it as a regular photo (not as a file), or a smaller image.",
        "ko": "이미지 파일이 너무 커요. 파일 대신 일반 사진으로 보내거나 더 작은 이미지를 보내 주세요.",
    },
    "image_not_an_image": {
        "en": "That doesn't look like an image. Please send a photo (JPEG, PNG or WebP).",
        "ko": "이미지가 아닌 것 같아요. 사진(JPEG, PNG, WebP)을 보내 주세요.",
    },
    "image_unsupported_format": {
        "en": "I can't read that image format. "
        "Please send a JPEG, PNG or WebP photo (a screenshot works too).",
        "ko": "이 이미지 형식은 읽을 수 없어요. JPEG, PNG, WebP 사진을 보내 주세요 (스크린샷도 괜찮아요).",
    },
    "image_too_many_pixels": {
        "en": "That image has too many pixels for me. Please send a smaller photo.",
        "ko": "이미지 해상도가 너무 커요. 더 작은 사진을 보내 주세요.",
    },
    "image_too_big": {
        "en": "That image is too big for me to open (it would need too much memory). "
        "Please send it as a regular photo (not as a file), or a smaller image.",
        "ko": "이미지가 너무 커서 열 수 없어요 (메모리가 너무 많이 필요해요). "
        "파일 대신 일반 사진으로 보내거나 더 작은 이미지를 보내 주세요.",
    },
    "image_bad_aspect_ratio": {
        "en": "That image is too long and narrow to search. Please send a normal photo of the outfit.",
        "ko": "이미지가 너무 길고 좁아서 검색할 수 없어요. 옷이 보이는 일반 사진을 보내 주세요.",
    },
    "image_truncated": {
        "en": "That image is cut off (the upload didn't finish). Please send it again.",
        "ko": "이미지가 중간에 잘렸어요 (업로드가 끝나지 않았어요). 다시 보내 주세요.",
    },
    "image_corrupt": {
        "en": "That image is damaged and can't be opened. Please send another photo.",
        "ko": "이미지가 손상되어 열 수 없어요. 다른 사진을 보내 주세요.",
    },
    "catalog_empty": {
        "en": "The catalog is being built right now — please try again in a little while.",
        "ko": "지금 상품 목록을 만드는 중이에요. 잠시 후 다시 시도해 주세요.",
    },
    "catalog_unavailable": {
        "en": "Search is unavailable for now: the product catalog is empty. Please try again later.",
        "ko": "지금은 검색할 수 없어요. 상품 목록이 비어 있어요. 나중에 다시 시도해 주세요.",
    },
    "catalog_state_admin": {
        "en": "<b>For admins</b>: {reason}.\nNext step: {next_step}.",
        "ko": "<b>관리자 안내</b>: {reason}.\n다음 단계: {next_step}.",
    },
    "index_rebuilding": {
        "en": "The search index is being rebuilt — please try again in a little while.",
        "ko": "검색 색인을 다시 만드는 중이에요. 잠시 후 다시 시도해 주세요.",
    },
    "no_results": {
        "en": "No products found in <b>{category}</b>. Try another category with /category, "
        "or search everything with <code>/category all</code>.",
        "ko": "<b>{category}</b>에서 상품을 찾지 못했어요. /category로 다른 카테고리를 고르거나 "
        "<code>/category 전체</code>로 모든 상품을 검색해 보세요.",
    },
    "no_more_results": {
        "en": "That's all I found for this search.",
        "ko": "이 검색으로 찾은 결과는 여기까지예요.",
    },
    "results_header": {
        "en": "🔎 Results {first}–{last} · {category}",
        "ko": "🔎 검색 결과 {first}–{last} · {category}",
    },
    "similar_header": {
        "en": "🔁 Similar to {name} · results {first}–{last} · {category}",
        "ko": "🔁 {name}와(과) 비슷한 상품 · 결과 {first}–{last} · {category}",
    },
    "photos_unavailable": {
        "en": "(The product photos couldn't be loaded right now.)",
        "ko": "(지금은 상품 사진을 불러올 수 없어요.)",
    },
    "more_button": {"en": "More ▶", "ko": "더 보기 ▶"},
    "similar_button": {"en": "Similar #{n}", "ko": "비슷한 #{n}"},
    "category_button": {"en": "Category: {category} ✏️", "ko": "카테고리: {category} ✏️"},
    "not_yours": {
        "en": "These results belong to someone else's search — send your own photo to search.",
        "ko": "다른 사람의 검색 결과예요. 직접 사진을 보내 검색해 보세요.",
    },
    "search_again": {
        "en": "This search has expired — please send the photo again.",
        "ko": "이 검색은 만료되었어요. 사진을 다시 보내 주세요.",
    },
    "already_shown": {
        "en": "Those results are already shown below.",
        "ko": "그 결과는 이미 아래에 있어요.",
    },
    # --- captions ---
    "sold_out": {"en": "Sold out", "ko": "품절"},
    "discount": {"en": "{percent}% off", "ko": "{percent}% 할인"},
    "view_on_musinsa": {"en": "View on Musinsa", "ko": "무신사에서 보기"},
    "price": {"en": "₩{amount}", "ko": "{amount}원"},
    # --- alerts (bot.alerts, /alerts) ---
    "cmd_alerts": {"en": "Price-drop and restock alerts on or off", "ko": "가격 인하·재입고 알림 켜기/끄기"},
    "arg_alerts": {"en": "[on|off]", "ko": "[on|off]"},
    "alerts_state_on": {
        "en": "🔔 Alerts are <b>on</b>: after each catalog update I tell you when a product you saved "
        "gets at least {percent}% and {won} cheaper, or is back in stock.",
        "ko": "🔔 알림이 <b>켜져</b> 있어요. 카탈로그가 업데이트될 때마다 저장한 상품이 {percent}% 이상, "
        "{won} 이상 싸지거나 재입고되면 알려 드려요.",
    },
    "alerts_state_off": {
        "en": "🔕 Alerts are <b>off</b>: I won't message you about saved products.",
        "ko": "🔕 알림이 <b>꺼져</b> 있어요. 저장한 상품에 대해 메시지를 보내지 않아요.",
    },
    "alerts_hint": {
        "en": "Turn them on or off with <code>/alerts on</code> or <code>/alerts off</code>.",
        "ko": "<code>/alerts on</code> 또는 <code>/alerts off</code>로 켜고 끌 수 있어요.",
    },
    "alerts_turned_on": {"en": "🔔 Alerts turned on.", "ko": "🔔 알림을 켰어요."},
    "alerts_turned_off": {"en": "🔕 Alerts turned off.", "ko": "🔕 알림을 껐어요."},
    "alerts_button_on": {"en": "🔔 Turn on", "ko": "🔔 켜기"},
    "alerts_button_off": {"en": "🔕 Turn off", "ko": "🔕 끄기"},
    "alerts_unavailable": {
        "en": "⚠️ Alerts are unavailable right now (the bot's user data cannot be used). Searches still work.",
        "ko": "⚠️ 지금은 알림 설정을 쓸 수 없어요 (사용자 데이터를 쓸 수 없어요). 검색은 계속 돼요.",
    },
    "alert_header": {
        "en": "🔔 <b>News about products you saved</b>",
        "ko": "🔔 <b>저장한 상품 소식</b>",
    },
    "alert_price_drop": {
        "en": "📉 {link}: {old} → <b>{new}</b> (−{percent}%)",
        "ko": "📉 {link}: {old} → <b>{new}</b> (−{percent}%)",
    },
    "alert_restock": {
        "en": "📦 {link} is back in stock: <b>{new}</b>",
        "ko": "📦 {link} 재입고: <b>{new}</b>",
    },
    "alert_more": {"en": "…and {count} more.", "ko": "…외 {count}개 더 있어요."},
    "alert_footer": {
        "en": "See them all with /saved. Stop these messages with /alerts off.",
        "ko": "/saved에서 모두 볼 수 있어요. 알림을 끄려면 /alerts off.",
    },
    "alert_product_fallback": {"en": "Product {id}", "ko": "상품 {id}"},
    # --- categories ---
    "category_all": {"en": "All", "ko": "전체"},
    "category_prompt": {
        "en": "Choose the category to search in (now: <b>{category}</b>):",
        "ko": "검색할 카테고리를 고르세요 (현재: <b>{category}</b>):",
    },
    "category_set": {
        "en": "Category set to <b>{category}</b>. Send a photo to search it.",
        "ko": "카테고리를 <b>{category}</b>(으)로 바꿨어요. 사진을 보내 검색해 보세요.",
    },
    "category_not_indexed": {
        "en": "Nothing is indexed in this category yet, so searches will find nothing until the next update.",
        "ko": "이 카테고리에는 아직 색인된 상품이 없어서 다음 업데이트 전까지는 결과가 없어요.",
    },
    "category_unknown": {
        "en": "I don't know the category “{name}”. Did you mean: {suggestions}? Or pick one with /category.",
        "ko": "“{name}” 카테고리를 찾지 못했어요. 혹시 {suggestions} 중 하나인가요? /category로 골라도 돼요.",
    },
    "category_unknown_no_suggestion": {
        "en": "I don't know the category “{name}”. Pick one from the list with /category.",
        "ko": "“{name}” 카테고리를 찾지 못했어요. /category로 목록에서 골라 주세요.",
    },
    # --- filters, captions and settings (/filter, /settings) ---
    "cmd_filter": {"en": "Price, gender and sold-out filters", "ko": "가격·성별·품절 필터"},
    "arg_filter": {"en": "[price range]", "ko": "[가격 범위]"},
    "cmd_settings": {"en": "Language, filters and category", "ko": "언어, 필터, 카테고리 설정"},
    "caption_tip": {
        "en": "Add a caption to a photo to narrow that one search: "
        "<code>women pants under 50000</code> or <code>여성 바지 5만원 이하</code>.",
        "ko": "사진에 캡션을 붙이면 그 검색만 좁힐 수 있어요: "
        "<code>여성 바지 5만원 이하</code>, <code>신발 3~5만원</code>.",
    },
    "price_error_empty": {
        "en": "Type a price range after /filter.",
        "ko": "/filter 뒤에 가격 범위를 적어 주세요.",
    },
    "price_error_unreadable": {
        "en": "I couldn't read “{text}” as a price range.",
        "ko": "“{text}”을(를) 가격 범위로 읽지 못했어요.",
    },
    "price_error_negative": {
        "en": "A price can't be negative ({amount}).",
        "ko": "가격은 0보다 작을 수 없어요 ({amount}).",
    },
    "price_error_too_high": {
        "en": "{amount} is more than any product costs (at most {limit}).",
        "ko": "{amount}은(는) 너무 커요. 상품 가격은 최대 {limit}이에요.",
    },
    "price_error_min_above_max": {
        "en": "The lowest price ({low}) is above the highest ({high}).",
        "ko": "최저 가격({low})이 최고 가격({high})보다 높아요.",
    },
    "price_error_too_low": {
        "en": "{amount} is too low for a price — did you mean {suggestion}?",
        "ko": "{amount}은(는) 가격으로 너무 낮아요. {suggestion}을(를) 말씀하신 건가요?",
    },
    "filter_bad_range": {
        "en": "{reason} Try for example <code>/filter 3-8만원</code>, <code>/filter 30000-80000</code> "
        "or <code>/filter under 50000</code>.",
        "ko": "{reason} 예: <code>/filter 3-8만원</code>, <code>/filter 5만원 이하</code>, "
        "<code>/filter 10만원 이상</code>",
    },
    "filter_prompt": {
        "en": "<b>Filters</b> (for every search)\nPrice: <b>{price}</b>\nGender: <b>{gender}</b>\n"
        "Sold-out items: <b>{sold_out}</b>\n\nTap to change, or type a range: <code>/filter 3-8만원</code>",
        "ko": "<b>필터</b> (모든 검색에 적용)\n가격: <b>{price}</b>\n성별: <b>{gender}</b>\n"
        "품절 상품: <b>{sold_out}</b>\n\n버튼을 누르거나 범위를 적어 보내세요: <code>/filter 3-8만원</code>",
    },
    "filter_price_set": {
        "en": "Price filter set: <b>{price}</b>. Filters now: {filters}. Send a photo to search.",
        "ko": "가격 필터를 <b>{price}</b>(으)로 정했어요. 현재 필터: {filters}. 사진을 보내 검색해 보세요.",
    },
    "price_any": {"en": "any price", "ko": "모든 가격"},
    "price_up_to": {"en": "up to {high}", "ko": "{high} 이하"},
    "price_from": {"en": "{low} and up", "ko": "{low} 이상"},
    "price_between": {"en": "{low}–{high}", "ko": "{low}~{high}"},
    "gender_all": {"en": "all", "ko": "전체"},
    "gender_men": {"en": "men", "ko": "남성"},
    "gender_women": {"en": "women", "ko": "여성"},
    "sold_out_hidden": {"en": "hidden", "ko": "숨김"},
    "sold_out_shown": {"en": "shown", "ko": "표시"},
    "incl_sold_out": {"en": "incl. sold out", "ko": "품절 포함"},
    "no_filters": {"en": "none", "ko": "없음"},
    "filter_preset_up_to_30k": {"en": "~₩30k", "ko": "~3만원"},
    "filter_preset_up_to_50k": {"en": "~₩50k", "ko": "~5만원"},
    "filter_preset_up_to_100k": {"en": "~₩100k", "ko": "~10만원"},
    "filter_preset_from_100k": {"en": "₩100k+", "ko": "10만원+"},
    "filter_any_price_button": {"en": "Any price", "ko": "모든 가격"},
    "filter_gender_all_button": {"en": "All genders", "ko": "성별 전체"},
    "filter_gender_men_button": {"en": "Men", "ko": "남성"},
    "filter_gender_women_button": {"en": "Women", "ko": "여성"},
    "filter_hide_sold_out_button": {"en": "Hide sold-out", "ko": "품절 숨기기"},
    "filter_show_sold_out_button": {"en": "Show sold-out", "ko": "품절 보기"},
    "filter_clear_all_button": {"en": "✖ Clear all", "ko": "✖ 모두 지우기"},
    "filters_line": {"en": "Filters: {filters}", "ko": "필터: {filters}"},
    "caption_line": {"en": "From your caption: {parts}", "ko": "캡션에서: {parts}"},
    "clear_filters_button": {"en": "✖ Clear filters", "ko": "✖ 필터 지우기"},
    "filters_cleared": {
        "en": "Filters cleared: every price and gender, sold-out items hidden. Search again to see more.",
        "ko": "필터를 지웠어요: 모든 가격과 성별, 품절 상품은 숨김. 다시 검색해 보세요.",
    },
    "filters_cleared_note": {"en": "Filters cleared", "ko": "필터를 지웠어요"},
    "filters_already_clear": {"en": "No saved filters to clear", "ko": "지울 필터가 없어요"},
    "filters_no_results_hint": {
        "en": "Your filters ({filters}) may hide matches: /filter changes them.",
        "ko": "필터({filters}) 때문에 결과가 적을 수 있어요. /filter로 바꿀 수 있어요.",
    },
    "caption_not_understood": {
        "en": "I searched the photo alone: I found no price, gender or category in your caption. "
        "A caption can say, for example, <code>under 50000</code>, <code>3~5만원</code>, "
        "<code>women</code>, <code>남성</code>, <code>pants</code> or <code>신발</code>.",
        "ko": "캡션에서 가격·성별·카테고리를 찾지 못해 사진만으로 검색했어요. "
        "캡션 예: <code>5만원 이하</code>, <code>3~5만원</code>, <code>여성</code>, <code>men</code>, "
        "<code>바지</code>, <code>shoes</code>",
    },
    "caption_price_problem": {
        "en": "I left out the caption's price: {reason}",
        "ko": "캡션의 가격은 빼고 검색했어요: {reason}",
    },
    "settings_prompt": {
        "en": "<b>Settings</b>\nLanguage: <b>{language}</b>\nFilters: <b>{filters}</b>\n"
        "Category: <b>{category}</b>",
        "ko": "<b>설정</b>\n언어: <b>{language}</b>\n필터: <b>{filters}</b>\n카테고리: <b>{category}</b>",
    },
    "language_auto": {"en": "auto (Telegram's)", "ko": "자동 (텔레그램 언어)"},
    "language_ko": {"en": "한국어", "ko": "한국어"},
    "language_en": {"en": "English", "ko": "English"},
    "language_auto_button": {"en": "Auto", "ko": "자동"},
    "language_set": {"en": "Language: {language}", "ko": "언어: {language}"},
    "settings_filters_button": {"en": "⚙️ Filters", "ko": "⚙️ 필터"},
    "settings_category_button": {"en": "🗂 Category", "ko": "🗂 카테고리"},
    # --- /similar ---
    "similar_usage": {
        "en": "Send /similar with a Musinsa product number or link, for example:\n"
        "<code>/similar 3783092</code>\n<code>/similar https://www.musinsa.com/products/3783092</code>",
        "ko": "/similar 뒤에 무신사 상품 번호나 링크를 붙여 보내 주세요. 예:\n"
        "<code>/similar 3783092</code>\n<code>/similar https://www.musinsa.com/products/3783092</code>",
    },
    "invalid_ref": {
        "en": "{detail}.",
        "ko": "무신사 상품이 아니에요. 상품 번호(예: 3783092)나 "
        "링크(예: https://www.musinsa.com/products/3783092)를 보내 주세요.",
    },
    "unknown_product": {
        "en": "I couldn't find product {goods_no} on Musinsa. Please check the number or link.",
        "ko": "무신사에서 상품 {goods_no}을(를) 찾지 못했어요. 번호나 링크를 확인해 주세요.",
    },
    "musinsa_unavailable": {
        "en": "Product {goods_no} isn't in my catalog, and I can't look it up on Musinsa right now. "
        "Please try again later.",
        "ko": "상품 {goods_no}은(는) 아직 목록에 없고, 지금은 무신사에서 찾아볼 수 없어요. "
        "나중에 다시 시도해 주세요.",
    },
    "product_image_unavailable": {
        "en": "I found product {goods_no}, but couldn't get its photo to compare. Please try again later.",
        "ko": "상품 {goods_no}은(는) 찾았지만 비교할 사진을 받지 못했어요. 나중에 다시 시도해 주세요.",
    },
    # --- text search, pasted links, similar within a kind (flows18) ---
    "how_to_words": {
        "en": "You can also type what you want (<code>black wide slacks</code>, <code>나이키 후드</code>), "
        "or paste a Musinsa product link or number to see similar products.",
        "ko": "원하는 상품을 글로 적어도 돼요 (<code>검정 와이드 슬랙스</code>, <code>nike hoodie</code>). "
        "무신사 상품 링크나 번호를 붙여 넣으면 비슷한 상품을 찾아 드려요.",
    },
    "text_results_for": {"en": "🔤 “{words}”", "ko": "🔤 “{words}”"},
    "text_empty": {
        "en": "Type a few words to search, like <code>black hoodie</code>, or send a photo.",
        "ko": "검색할 단어를 적어 주세요 (예: <code>검정 후드</code>). 사진을 보내도 돼요.",
    },
    "text_no_words": {
        "en": "I found no words to search in that. Try product words like <code>black hoodie</code> "
        "or <code>나이키 후드</code>, or send a photo.",
        "ko": "검색할 단어를 찾지 못했어요. <code>검정 후드</code>, <code>nike hoodie</code>처럼 "
        "상품을 말로 적거나 사진을 보내 주세요.",
    },
    "text_too_long": {
        "en": "That's too long to search ({length} characters, at most {limit}). Try a few words, "
        "like <code>black wide slacks</code>.",
        "ko": "검색하기에 너무 길어요 ({length}자, 최대 {limit}자). <code>검정 와이드 슬랙스</code>처럼 "
        "몇 단어로 적어 주세요.",
    },
    "text_no_results": {
        "en": "No products match “{words}” in <b>{category}</b>. Try fewer words, "
        "or loosen your filters with /filter.",
        "ko": "<b>{category}</b>에서 “{words}”에 맞는 상품을 찾지 못했어요. 단어를 줄이거나 "
        "/filter로 필터를 풀어 보세요.",
    },
    "other_shop_link": {
        "en": "Only Musinsa product links work here ({host} is another shop). Send a link like "
        "https://www.musinsa.com/products/3783092, or the product number.",
        "ko": "무신사 상품 링크만 찾을 수 있어요 ({host}은(는) 다른 쇼핑몰이에요). "
        "https://www.musinsa.com/products/3783092 같은 링크나 상품 번호를 보내 주세요.",
    },
    "widen_button": {"en": "🌐 Widen to all categories", "ko": "🌐 모든 카테고리로 넓히기"},
    "text_index_pending": {
        "en": "Searching by words isn't ready yet: the catalog gets it at its next update. "
        "Send a photo meanwhile.",
        "ko": "아직 글로 검색할 수 없어요. 다음 상품 목록 업데이트 때 준비돼요. 그동안 사진을 보내 주세요.",
    },
    # --- feedback, /privacy and /forget (feedback19) ---
    "cmd_privacy": {"en": "What snapfit stores about you", "ko": "snapfit이 저장하는 정보"},
    "cmd_forget": {"en": "Delete everything stored about you", "ko": "내 정보 모두 삭제"},
    "feedback_thanks": {"en": "Thanks!", "ko": "고마워요!"},
    "feedback_already": {
        "en": "Thanks! You already rated this page; your first vote counts.",
        "ko": "고마워요! 이 페이지는 이미 평가하셨어요. 처음 평가가 반영돼요.",
    },
    "feedback_unavailable": {
        "en": "Sorry, feedback can't be saved right now. Please try again later.",
        "ko": "죄송해요, 지금은 평가를 저장할 수 없어요. 나중에 다시 시도해 주세요.",
    },
    "privacy": {
        "en": "<b>What snapfit stores about you</b>\n"
        "• Your settings: language, category and filters, and whether you get alerts; and your "
        "Telegram language code, so that alerts come in your language.\n"
        "• The products you save (⭐): the product number, its price and sold-out state when you saved "
        "it and when we last told you about it.\n"
        "• The alert log: which product, price drop or restock, the old and new price, which catalog "
        "update, when, and whether it was delivered.\n"
        "• Your 👍 / 👎 votes: the kind of search (photo, garment, words, similar), its category and "
        "filters, the model version, the products shown and the vote.\n\n"
        "<b>Never stored</b>: your photos and what is computed from them. A photo is processed in "
        "memory to find products and discarded; a search you can still page through is forgotten "
        "after a few hours or when the bot restarts.\n\n"
        "<b>How long</b>: until you use /forget. Nothing expires on its own.\n"
        "/forget deletes all of it at once.",
        "ko": "<b>snapfit이 저장하는 정보</b>\n"
        "• 설정: 언어, 카테고리, 필터, 알림 수신 여부, 그리고 알림을 내 언어로 보내기 위한 텔레그램 "
        "언어 코드.\n"
        "• 저장한 상품(⭐): 상품 번호, 저장할 때와 마지막으로 알려 드린 때의 가격과 품절 여부.\n"
        "• 알림 기록: 어떤 상품, 가격 인하 또는 재입고, 이전 가격과 새 가격, 어떤 카탈로그 업데이트, "
        "언제, 전달 여부.\n"
        "• 👍 / 👎 평가: 검색 종류(사진, 옷 부분, 글, 비슷한 상품), 카테고리와 필터, 모델 버전, "
        "보여 드린 상품, 평가.\n\n"
        "<b>저장하지 않는 것</b>: 사진과 사진에서 계산한 정보. 사진은 상품을 찾는 동안 메모리에서만 "
        "처리하고 버려요. 넘겨 볼 수 있는 검색 결과는 몇 시간 뒤나 봇이 다시 시작되면 사라져요.\n\n"
        "<b>보관 기간</b>: /forget을 쓸 때까지예요. 저절로 지워지는 것은 없어요.\n"
        "/forget으로 한 번에 모두 지울 수 있어요.",
    },
    "forget_prompt": {
        "en": "Delete everything snapfit stores about you: settings, saved products, alert history and "
        "votes? This cannot be undone.",
        "ko": "snapfit에 저장된 내 정보(설정, 저장한 상품, 알림 기록, 평가)를 모두 지울까요? "
        "되돌릴 수 없어요.",
    },
    "forget_not_yours": {
        "en": "Only the person who asked can answer this. Send /forget to delete your own data.",
        "ko": "요청한 사람만 답할 수 있어요. 내 정보를 지우려면 /forget을 보내 주세요.",
    },
    "forget_confirm_button": {"en": "🗑 Delete everything", "ko": "🗑 모두 삭제"},
    "forget_cancel_button": {"en": "Cancel", "ko": "취소"},
    "forget_cancelled": {
        "en": "Cancelled: nothing was deleted.",
        "ko": "취소했어요. 아무것도 지우지 않았어요.",
    },
    "forget_done": {
        "en": "🗑 Deleted everything about you: settings ({settings}), saved products ({saved}), "
        "alert history ({alerts}), votes ({feedback}). Your settings are back to the defaults.",
        "ko": "🗑 내 정보를 모두 지웠어요: 설정 {settings}건, 저장한 상품 {saved}개, 알림 기록 {alerts}건, "
        "평가 {feedback}건. 설정은 기본값으로 돌아갔어요.",
    },
    "forget_unavailable": {
        "en": "Sorry, I can't delete your data right now: nothing was deleted. Please try /forget again "
        "later.",
        "ko": "죄송해요, 지금은 정보를 지울 수 없어요. 아무것도 지우지 않았어요. 나중에 /forget을 다시 "
        "시도해 주세요.",
    },
    "stats_users": {
        "en": "<b>Users</b>: {users} with settings · {saved} saved products · {alerts} alerts sent by the "
        "last sync · feedback 👍 {up} / 👎 {down}",
        "ko": "<b>사용자</b>: 설정 있는 사용자 {users}명 · 저장한 상품 {saved}개 · 마지막 동기화 알림 "
        "{alerts}건 · 평가 👍 {up} / 👎 {down}",
    },
    "stats_users_unavailable": {
        "en": "<b>Users</b>: the user store is unavailable ({reason}).",
        "ko": "<b>사용자</b>: 사용자 저장소를 쓸 수 없어요 ({reason}).",
    },
    # --- other input ---
    "unknown_command": {
        "en": "I don't know that command. /help lists what I can do.",
        "ko": "모르는 명령어예요. /help에서 사용할 수 있는 명령어를 확인해 주세요.",
    },
    "sticker": {
        "en": "Nice sticker! 😄 I can only search photos, though — send me a photo of an outfit.",
        "ko": "귀여운 스티커네요! 😄 하지만 사진만 검색할 수 있어요. 옷차림 사진을 보내 주세요.",
    },
    "video": {
        "en": "I can't search videos or GIFs — send a photo instead (a screenshot of the video works).",
        "ko": "동영상이나 GIF는 검색할 수 없어요. 사진을 보내 주세요 (동영상 스크린샷도 괜찮아요).",
    },
    "voice": {
        "en": "I can't listen to voice or audio messages — send me a photo of an outfit instead.",
        "ko": "음성이나 오디오 메시지는 들을 수 없어요. 옷차림 사진을 보내 주세요.",
    },
    "not_image_document": {
        "en": "That file isn't an image. Send a photo, or an image file (JPEG, PNG or WebP).",
        "ko": "이미지 파일이 아니에요. 사진이나 이미지 파일(JPEG, PNG, WebP)을 보내 주세요.",
    },
    "other_content": {
        "en": "I can only search photos — send me a photo of an outfit.",
        "ko": "사진만 검색할 수 있어요. 옷차림 사진을 보내 주세요.",
    },
    # --- admin and errors ---
    "not_allowed": {
        "en": "Sorry, that command is only for the bot's admins.",
        "ko": "죄송해요, 이 명령어는 관리자만 쓸 수 있어요.",
    },
    "error_apology": {
        "en": "Sorry, something went wrong on my side. Please try again.",
        "ko": "죄송해요, 처리 중에 문제가 생겼어요. 다시 시도해 주세요.",
    },
    "stats_index": {
        "en": "<b>Index</b>: {total} products · model <code>{model}</code> ({dimension}-d) · "
        "version <code>{version}</code> ({backend})",
        "ko": "<b>색인</b>: 상품 {total}개 · 모델 <code>{model}</code> ({dimension}차원) · "
        "버전 <code>{version}</code> ({backend})",
    },
    "stats_index_empty": {
        "en": "<b>Index</b>: empty — nothing has been indexed yet ({backend}).",
        "ko": "<b>색인</b>: 비어 있어요. 아직 색인된 상품이 없어요 ({backend}).",
    },
    "stats_model_mismatch": {
        "en": "⚠️ The index was built with another model than the configured one "
        "(<code>{configured}</code>): it must be rebuilt.",
        "ko": "⚠️ 색인이 설정된 모델(<code>{configured}</code>)과 다른 모델로 만들어졌어요. "
        "다시 만들어야 해요.",
    },
    "sync_started": {
        "en": "🔄 Sync started. I'll send the summary here when it's done.",
        "ko": "🔄 동기화를 시작했어요. 끝나면 여기로 요약을 보내 드릴게요.",
    },
    "sync_busy": {
        "en": "A sync is already running; its summary will show in /stats when it ends.",
        "ko": "이미 동기화가 진행 중이에요. 끝나면 /stats에서 요약을 볼 수 있어요.",
    },
    "sync_skipped": {
        "en": "The sync was skipped: another one was already running.",
        "ko": "다른 동기화가 이미 진행 중이라 이번 동기화는 건너뛰었어요.",
    },
    "sync_crashed": {
        "en": "⚠️ The sync stopped with an internal error ({error}); the index was kept. See the logs.",
        "ko": "⚠️ 동기화가 내부 오류({error})로 멈췄어요. 색인은 그대로예요. 로그를 확인해 주세요.",
    },
    "sync_summary_ok": {
        "en": "<b>Last sync</b> ({finished}): {crawled} crawled, {added} added, {updated} updated, "
        "{unchanged} unchanged, {removed} removed, {failed} failed in {seconds} s",
        "ko": "<b>마지막 동기화</b> ({finished}): 수집 {crawled} · 추가 {added} · 갱신 {updated} · "
        "변경 없음 {unchanged} · 삭제 {removed} · 실패 {failed} ({seconds}초)",
    },
    "sync_summary_failed": {
        "en": "<b>Last sync</b> ({finished}) ⚠️ ended early: {crawled} crawled, {added} added, "
        "{updated} updated, {unchanged} unchanged, {removed} removed, {failed} failed in {seconds} s",
        "ko": "<b>마지막 동기화</b> ({finished}) ⚠️ 중간에 멈춤: 수집 {crawled} · 추가 {added} · "
        "갱신 {updated} · 변경 없음 {unchanged} · 삭제 {removed} · 실패 {failed} ({seconds}초)",
    },
    "sync_incomplete": {
        "en": "⚠️ Incomplete: the crawl of {categories} was cut short, so their products were kept as they "
        "were; the next sync tries again.",
        "ko": "⚠️ 불완전: {categories} 카테고리 수집이 중간에 끊겨 해당 상품은 그대로 두었어요. "
        "다음 동기화에서 다시 시도해요.",
    },
    "sync_note": {"en": "• {note}", "ko": "• {note}"},
    "sync_never": {
        "en": "<b>Last sync</b>: none yet.",
        "ko": "<b>마지막 동기화</b>: 아직 없어요.",
    },
    "sync_running": {
        "en": "🔄 A sync is running (since {since}).",
        "ko": "🔄 동기화 진행 중 ({since}부터).",
    },
    "sync_next": {
        "en": "<b>Next nightly sync</b>: {at} ({zone})",
        "ko": "<b>다음 정기 동기화</b>: {at} ({zone})",
    },
    "sync_disabled": {
        "en": "<b>Nightly sync</b>: disabled ([schedule] enabled = false).",
        "ko": "<b>정기 동기화</b>: 꺼져 있어요 ([schedule] enabled = false).",
    },
    "stats_unavailable": {
        "en": "⚠️ This part of the report is unavailable ({error}).",
        "ko": "⚠️ 이 항목은 지금 확인할 수 없어요 ({error}).",
    },
    # --- saved products (⭐ under results, /saved) ---
    "cmd_saved": {"en": "Your saved products (⭐ under results)", "ko": "저장한 상품 (결과 아래 ⭐)"},
    "save_button": {"en": "⭐{n}", "ko": "⭐{n}"},
    "save_tip": {
        "en": "Tap <b>⭐n</b> under results to save product #n; /saved shows them with their price now.",
        "ko": "결과 아래 <b>⭐n</b>을 누르면 #n 상품이 저장돼요. /saved에서 지금 가격과 함께 볼 수 있어요.",
    },
    "saved_toast": {
        "en": "⭐ Saved #{n}: {name}. See /saved",
        "ko": "⭐ #{n} 저장했어요: {name}. /saved에서 볼 수 있어요",
    },
    "saved_already": {
        "en": "#{n} is already saved. See /saved",
        "ko": "#{n}은(는) 이미 저장돼 있어요. /saved에서 볼 수 있어요",
    },
    "saved_full": {
        "en": "You have {limit} saved products, the most I keep. Remove some in /saved first.",
        "ko": "저장한 상품이 {limit}개로 가득 찼어요. /saved에서 몇 개 지운 뒤 저장해 주세요.",
    },
    "saved_unavailable": {
        "en": "Saving products is unavailable right now. Please try again later; searches still work.",
        "ko": "지금은 상품을 저장할 수 없어요. 잠시 후 다시 시도해 주세요. 검색은 그대로 돼요.",
    },
    "saved_list_unavailable": {
        "en": "⚠️ Your saved products can't be shown right now. Please try again later; searches still work.",
        "ko": "⚠️ 지금은 저장한 상품을 보여 드릴 수 없어요. 잠시 후 다시 시도해 주세요. 검색은 그대로 돼요.",
    },
    "save_gone": {
        "en": "This product is no longer on Musinsa, so it can't be saved.",
        "ko": "무신사에서 내려간 상품이라 저장할 수 없어요.",
    },
    "saved_empty": {
        "en": "⭐ You haven't saved any products yet.\nTap <b>⭐n</b> under search results to save result "
        "#n; /saved lists them with their price now.",
        "ko": "⭐ 아직 저장한 상품이 없어요.\n검색 결과 아래 <b>⭐n</b>을 누르면 #n 상품이 저장되고, "
        "/saved에서 지금 가격과 함께 볼 수 있어요.",
    },
    "saved_header": {
        "en": "⭐ <b>Saved products</b> · {first}–{last} of {total}",
        "ko": "⭐ <b>저장한 상품</b> · {total}개 중 {first}–{last}",
    },
    "saved_entry_title": {"en": "<b>{k}. {brand}</b> · {name}", "ko": "<b>{k}. {brand}</b> · {name}"},
    "saved_gone_title": {
        "en": "<b>{k}.</b> Product {id} · 🚫 no longer on Musinsa",
        "ko": "<b>{k}.</b> 상품 {id} · 🚫 무신사에서 내려간 상품",
    },
    "saved_unknown_title": {
        "en": "<b>{k}.</b> Product {id} · the price now can't be checked right now",
        "ko": "<b>{k}.</b> 상품 {id} · 지금은 현재 가격을 확인할 수 없어요",
    },
    "saved_was": {"en": "saved at {price}", "ko": "저장할 때 {price}"},
    "saved_down": {"en": "▼ {amount} ({percent}) since saved", "ko": "저장 후 ▼ {amount} ({percent})"},
    "saved_up": {"en": "▲ {amount} ({percent}) since saved", "ko": "저장 후 ▲ {amount} ({percent})"},
    "saved_same": {"en": "no change since saved", "ko": "저장 후 변동 없음"},
    "saved_back_in_stock": {"en": "✅ Back in stock", "ko": "✅ 재입고"},
    "saved_remove_button": {"en": "✖ #{k}", "ko": "✖ #{k}"},
    "saved_prev_button": {"en": "◀ Prev", "ko": "◀ 이전"},
    "saved_next_button": {"en": "Next ▶", "ko": "다음 ▶"},
    "saved_removed": {"en": "Removed from your saved products.", "ko": "저장 목록에서 삭제했어요."},
    "saved_not_there": {"en": "That product was already removed.", "ko": "이미 삭제된 상품이에요."},
    "saved_not_yours": {
        "en": "This list belongs to someone else — send /saved to see yours.",
        "ko": "다른 사람의 목록이에요. /saved로 내 목록을 볼 수 있어요.",
    },
}


def text(lang: Lang, key: str, **values: object) -> str:
    """The ``key`` text in ``lang``, with ``values`` escaped and filled in."""
    return _fill(lang, key, {name: escape(value) for name, value in values.items()})


def plain(lang: Lang, key: str, **values: object) -> str:
    """A text for places that show no markup (button labels, callback answers, command menus)."""
    return _fill(lang, key, {name: str(value) for name, value in values.items()})


def _fill(lang: Lang, key: str, values: dict[str, str]) -> str:
    template = TEXTS[key][lang]
    return template.format(**values) if values else template


def image_error_text(lang: Lang, code: str) -> str:
    """The reply for an ``indexer.images.ImageError`` code (a generic one for codes added later)."""
    key = f"image_{code}"
    return text(lang, key if key in TEXTS else "image_corrupt")


def format_price(lang: Lang, amount: int) -> str:
    return plain(lang, "price", amount=f"{amount:,}")


def format_bytes(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(1, round(size / 1024))} KB"
