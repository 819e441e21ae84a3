"""Seeded synthetic en-ru corpus for the cleaning benchmark, with labelled noise.

Sentences are Zipf-weighted word salads over a small hand-written lexicon of
common English words with Russian and German equivalents: real words, so
that a pretrained identifier (cld2) recognises the languages, and two
scripts (Latin, Cyrillic), so that the filters' script paths are exercised.
The Russian side translates word for word, drops English articles and the
copula, and swaps a few neighbours, which gives realistic length ratios.

``make_pairs`` draws each pair's kind from ``NOISE``: clean pairs (some with
curly quotes, double or no-break spaces for the normaliser) and the noise
each filter targets. ``lid_training_lines`` makes held-out labelled text for
the benchmark's fastText language identifier.
"""

from __future__ import annotations

import numpy as np

# english russian german; "-" = no word in that language (articles, copula).
LEXICON = """
the - die|a - ein|and и und|of - von|to к zu|in в in|is - ist|it это es|that что dass|for для für|was был war
on на auf|are - sind|with с mit|as как als|he он er|she она sie|they они sie|we мы wir|you ты du|I я ich
his его sein|her её ihr|at у bei|be быть sein|this этот dieser|have иметь haben|from из aus|or или oder
one один eins|had имел hatte|by по durch|but но aber|not не nicht|what что was|all все alle|were были waren
when когда wenn|there там dort|can может kann|an - ein|your твой dein|which который welcher|their их ihr
said сказал sagte|if если wenn|will будет wird|each каждый jeder|about о über|how как wie|up вверх hinauf
out наружу hinaus|them их sie|then потом dann|many много viele|some некоторые einige|so так so|these эти diese
would бы würde|other другой andere|into внутрь hinein|has имеет hat|more больше mehr|two два zwei|like как wie
time время Zeit|very очень sehr|after после nach|new новый neu|year год Jahr|people люди Leute|day день Tag
man мужчина Mann|woman женщина Frau|child ребёнок Kind|world мир Welt|life жизнь Leben|hand рука Hand
part часть Teil|place место Ort|case случай Fall|week неделя Woche|company компания Firma
system система System|program программа Programm|question вопрос Frage|work работа Arbeit
government правительство Regierung|number число Zahl|night ночь Nacht|point точка Punkt|home дом Heim
water вода Wasser|room комната Zimmer|mother мать Mutter|area район Gebiet|money деньги Geld
story рассказ Erzählung|fact факт Tatsache|month месяц Monat|right право Recht|study исследование Studie
book книга Buch|eye глаз Auge|job должность Stelle|word слово Wort|business бизнес Geschäft
issue вопрос Angelegenheit|side сторона Seite|kind вид Art|head голова Kopf|house дом Haus
service служба Dienst|friend друг Freund|father отец Vater|power власть Macht|hour час Stunde|game игра Spiel
line линия Linie|end конец Ende|member член Mitglied|law закон Gesetz|car машина Auto|city город Stadt
community сообщество Gemeinschaft|name имя Name|president президент Präsident|team команда Mannschaft
minute минута Minute|idea идея Idee|body тело Körper|information информация Information|back спина Rücken
parent родитель Elternteil|face лицо Gesicht|level уровень Niveau|office офис Büro|door дверь Tür
health здоровье Gesundheit|person человек Person|art искусство Kunst|war война Krieg
history история Geschichte|party партия Partei|result результат Ergebnis|change изменение Änderung
morning утро Morgen|reason причина Grund|research исследование Forschung|girl девочка Mädchen
moment момент Moment|air воздух Luft|teacher учитель Lehrer|force сила Kraft|education образование Bildung
country страна Land|school школа Schule|state государство Staat|family семья Familie|student студент Student
group группа Gruppe|problem проблема Problem|market рынок Markt|road дорога Straße|river река Fluss
tree дерево Baum|bread хлеб Brot|letter письмо Brief|street улица Gasse|window окно Fenster|table стол Tisch
language язык Sprache|music музыка Musik|village деревня Dorf|summer лето Sommer|winter зима Winter
train поезд Zug|doctor врач Arzt|report доклад Bericht|price цена Preis|plan план Plan|energy энергия Energie
go идти gehen|see видеть sehen|know знать wissen|get получать bekommen|make делать machen|think думать denken
take брать nehmen|come приходить kommen|want хотеть wollen|look смотреть schauen|use использовать benutzen
find находить finden|give давать geben|tell рассказывать erzählen|ask спрашивать fragen
feel чувствовать fühlen|try пытаться versuchen|leave уходить verlassen|call звонить anrufen
keep держать halten|begin начинать beginnen|help помогать helfen|show показывать zeigen|hear слышать hören
play играть spielen|run бежать laufen|move двигаться bewegen|live жить leben|believe верить glauben
bring приносить bringen|write писать schreiben|read читать lesen|sit сидеть sitzen|stand стоять stehen
lose терять verlieren|pay платить zahlen|meet встречать treffen|learn учиться lernen
understand понимать verstehen|speak говорить sprechen|open открывать öffnen|buy покупать kaufen
build строить bauen|wait ждать warten|send отправлять senden|decide решать entscheiden
remember помнить erinnern|love любить lieben|eat есть essen|sleep спать schlafen|good хороший gut
first первый erste|last последний letzte|long длинный lang|great великий großartig|little маленький wenig
own собственный eigen|old старый alt|big большой groß|high высокий hoch|different разный verschieden
small небольшой klein|large крупный riesig|next следующий nächste|early ранний früh|young молодой jung
important важный wichtig|few немногие wenige|public общественный öffentlich|bad плохой schlecht
same одинаковый gleich|able способный fähig|beautiful красивый schön|strong сильный stark
happy счастливый glücklich|cold холодный kalt|warm тёплый warm|dark тёмный dunkel|quiet тихий ruhig
free свободный frei|hard трудный schwer|easy лёгкий leicht|now сейчас jetzt|here здесь hier|also также auch
well хорошо wohl|only только nur|still ещё noch|again снова wieder|never никогда nie|always всегда immer
today сегодня heute|together вместе zusammen|often часто oft|already уже schon|perhaps возможно vielleicht
slowly медленно langsam|quickly быстро schnell|yesterday вчера gestern|tomorrow завтра morgen
"""
ENTRIES = [entry.split() for entry in LEXICON.replace("\n", "|").split("|") if entry.strip()]
EN, RU, DE = (np.array([entry[i] for entry in ENTRIES], dtype=object) for i in range(3))
# Zipf over the list order (function words first): rank r has weight 1/(r + 2).
WEIGHTS = 1.0 / (np.arange(len(ENTRIES)) + 2.0)
WEIGHTS /= WEIGHTS.sum()
NAMES = [("Anna", "Анна"), ("Berlin", "Берлин"), ("Moscow", "Москва"), ("Google", "Google"), ("NATO", "НАТО")]

# Share of each pair kind; what it is for is in make_pairs.
NOISE = {
    "clean": 0.70,
    "clean_messy": 0.06,
    "copy": 0.04,
    "near_copy": 0.03,
    "short_target": 0.03,
    "too_long": 0.005,
    "empty_side": 0.01,
    "digits": 0.04,
    "tgt_english": 0.03,
    "tgt_german": 0.02,
    "src_russian": 0.015,
}


def _sentence_lengths(rng: np.random.Generator, n: int) -> np.ndarray:
    """Words per sentence: log-normal around 16, clipped to 5-40."""
    return np.clip(np.rint(rng.lognormal(np.log(16), 0.5, n)), 5, 40).astype(int)


def _render(words: list[str], end: str) -> str:
    text = " ".join(word for word in words if word != "-")
    return text[:1].upper() + text[1:] + end


def make_pairs(n: int, seed: int) -> tuple[list[str], list[str], list[str]]:
    """Return ``n`` (sources, targets, kinds): en-ru pairs, kinds drawn from ``NOISE``."""
    rng = np.random.default_rng(seed)
    kinds = rng.choice(list(NOISE), size=n, p=np.array(list(NOISE.values())) / sum(NOISE.values()))
    lengths = _sentence_lengths(rng, n)
    words = rng.choice(len(ENTRIES), size=int(lengths.sum()), p=WEIGHTS)
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    ends = rng.choice([".", ".", ".", "?", "!", ""], size=n)
    uniform = rng.random((n, 4))
    srcs, tgts = [], []
    for i, kind in enumerate(kinds.tolist()):
        ids = words[bounds[i] : bounds[i + 1]]
        u = uniform[i]
        en, ru = list(EN[ids]), list(RU[ids])
        if u[0] < 0.15:  # a name or a number, shared by both sides
            j = int(u[1] * len(en))
            if u[2] < 0.5:
                name = NAMES[int(u[3] * len(NAMES))]
                en.insert(j, name[0])
                ru.insert(j, name[1])
            else:
                en.insert(j, str(int(u[3] * 3000)))
                ru.insert(j, str(int(u[3] * 3000)))
        for j in range(0, len(ru) - 1, 5):  # word order differs a little
            if u[(j // 5) % 4] < 0.5:
                ru[j], ru[j + 1] = ru[j + 1], ru[j]
        src, tgt = _render(en, ends[i]), _render(ru, ends[i])
        if kind == "clean_messy":  # normalisation fodder: same pair after NFKC and whitespace folding
            src = src.replace(" ", "  ", 1) + " "
            tgt = "\u201c" + tgt.replace(" ", "\u00a0", 1) + "\u201d"
        elif kind == "copy":
            tgt = src if u[1] < 0.7 else src.lower().rstrip(".?!")
        elif kind == "near_copy":  # partly translated: the first word or two in Russian
            k = 1 + int(u[1] * 2)
            tgt = _render(ru[:k] + en[k:], ends[i])
        elif kind == "short_target":
            tgt = _render(ru[:1], ".") if len(en) >= 8 else tgt
        elif kind == "too_long":  # a paragraph mistaken for a sentence
            src, tgt = " ".join([src] * 15), " ".join([tgt] * 15)
        elif kind == "empty_side":
            src, tgt = (src, "") if u[1] < 0.7 else ("", tgt)
        elif kind == "digits":  # table rows and numbers
            row = " | ".join(f"{x:.1f}" for x in uniform[i] * 1000)
            src, tgt = (row, row) if u[1] < 0.5 else (src, f"{row} %")
        elif kind == "tgt_english":  # a different English sentence, not a copy
            tgt = _render(list(EN[words[bounds[i - 1] : bounds[i]]]) if i else en[::-1], ends[i])
        elif kind == "tgt_german":
            tgt = _render(list(DE[ids]), ends[i])
        elif kind == "src_russian":
            src = _render(list(RU[words[bounds[i - 1] : bounds[i]]]) if i else ru[::-1], ends[i])
        srcs.append(src)
        tgts.append(tgt)
    return srcs, tgts, kinds.tolist()


def lid_training_lines(per_language: int, seed: int) -> list[str]:
    """fastText training lines ``__label__{en,ru,de} text``, held out from any benchmark seed."""
    rng = np.random.default_rng(seed)
    lines = []
    for label, vocabulary in (("en", EN), ("ru", RU), ("de", DE)):
        lengths = _sentence_lengths(rng, per_language)
        # Short lines too: an identifier trained only on long ones is unsure on short ones.
        lengths = np.where(rng.random(per_language) < 0.3, rng.integers(1, 5, per_language), lengths)
        words = rng.choice(len(ENTRIES), size=int(lengths.sum()), p=WEIGHTS)
        bounds = np.concatenate([[0], np.cumsum(lengths)])
        lines += [
            f"__label__{label} " + _render(list(vocabulary[words[bounds[i] : bounds[i + 1]]]), ".")
            for i in range(per_language)
        ]
    order = rng.permutation(len(lines))
    return [lines[i] for i in order]
